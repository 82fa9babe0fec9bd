from django.db import migrations

CATEGORIES = [
    ("chi-dao", "Chỉ đạo, điều hành", "Directives", 10),
    ("tinh-hinh-dich", "Tình hình dịch", "Epidemic situation", 20),
    ("xet-nghiem", "Xét nghiệm", "Testing", 30),
    ("tiem-chung", "Tiêm chủng", "Vaccination", 40),
    ("huong-dan", "Hướng dẫn", "Guidance", 50),
]


def create(apps, schema_editor):
    Category = apps.get_model("portal", "Category")
    for slug, name_vi, name_en, order in CATEGORIES:
        Category.objects.get_or_create(
            slug=slug, defaults={"name_vi": name_vi, "name_en": name_en, "order": order}
        )


def remove(apps, schema_editor):
    Category = apps.get_model("portal", "Category")
    Category.objects.filter(
        slug__in=[c[0] for c in CATEGORIES], announcements__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
