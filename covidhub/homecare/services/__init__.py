"""Writes of the home-care capability, split by what they hold: `orders` (opening,
referral, release), `checks` (self-checks and the alerts they raise), `station` (the
station's day: alerts closed, kits, visits, the on-duty list)."""
