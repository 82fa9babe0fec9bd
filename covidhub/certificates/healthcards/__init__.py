"""Other formats of the same vaccination record: SMART Health Cards and WHO DDCC:VS."""
