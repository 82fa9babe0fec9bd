"""The vaccines used in Vietnam, with their EU DCC codes and rules.

Codes from the DCC value sets (vaccines-covid-19-names, vaccines-covid-19-auth-holders,
sct-vaccines-covid-19) following vaccines-covid-19-encoding-instructions: Sinopharm's
Beijing product is BBIBP-CorV (the older "Inactivated-SARS-CoV-2-Vero-Cell" code is
deprecated); vp is the specific SNOMED CT code the instructions list for each product.
Administrators edit these afterwards in the admin.
"""

from django.db import migrations

VACCINES = [
    # code, name, mp, ma, vp, primary doses, min days, recommended days, booster?,
    # booster interval days, min age, max age, doses per vial
    ("astrazeneca", "AstraZeneca (Vaxzevria)", "EU/1/21/1529", "ORG-100001699", "29061000087103", 2, 56, 84, True, 90, 18, None, 10),
    ("pfizer", "Pfizer-BioNTech (Comirnaty)", "EU/1/20/1528", "ORG-100030215", "1119349007", 2, 21, 21, True, 90, 12, None, 6),
    ("moderna", "Moderna (Spikevax)", "EU/1/20/1507", "ORG-100031184", "1119349007", 2, 28, 28, True, 90, 12, None, 10),
    ("sinopharm", "Sinopharm (BBIBP-CorV, Vero Cell)", "BBIBP-CorV", "ORG-100020693", "1157024006", 2, 21, 28, False, 90, 18, None, 1),
    ("sputnik-v", "Sputnik V (Gam-COVID-Vac)", "Sputnik-V", "Gamaleya-Research-Institute", "29061000087103", 2, 21, 21, False, 90, 18, None, 5),
    ("abdala", "Abdala (CIGB-66)", "Abdala", "CIGB", "28531000087107", 3, 14, 14, False, 90, 19, 65, 10),
    ("hayat-vax", "Hayat-Vax", "Hayat-Vax", "ORG-100023050", "1157024006", 2, 21, 28, False, 90, 18, None, 1),
    ("janssen", "Janssen (Jcovden)", "EU/1/20/1525", "ORG-100001417", "29061000087103", 1, 0, 0, True, 60, 18, None, 5),
]
FIELDS = (
    "code",
    "name",
    "product_code",
    "manufacturer_code",
    "prophylaxis_code",
    "primary_doses",
    "min_interval_days",
    "recommended_interval_days",
    "booster_allowed",
    "booster_interval_days",
    "min_age",
    "max_age",
    "doses_per_vial",
)


def forwards(apps, schema_editor):
    Vaccine = apps.get_model("vaccination", "Vaccine")
    for row in VACCINES:
        values = dict(zip(FIELDS, row, strict=True))
        code = values.pop("code")
        Vaccine.objects.get_or_create(code=code, defaults=values)


def backwards(apps, schema_editor):
    Vaccine = apps.get_model("vaccination", "Vaccine")
    Vaccine.objects.filter(code__in=[row[0] for row in VACCINES], doses__isnull=True, lots__isnull=True, campaigns__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("vaccination", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
