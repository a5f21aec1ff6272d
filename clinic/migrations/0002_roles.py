"""The four role groups and their model permissions.

Permissions are normally created after all migrations run; they are created here
first so that the groups can be given them on a fresh database."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Patients": [],
    "Physicians": [
        "treatments.view_bodyregion",
        "treatments.view_condition",
        "treatments.view_treatmentoption",
        "treatments.view_contraindication",
    ],
    "Front desk": ["treatments.view_bodyregion", "clinic.view_physicianprofile"],
    "Clinic admins": [
        f"{app}.{action}_{model}"
        for app, model in [
            ("treatments", "bodyregion"),
            ("treatments", "condition"),
            ("treatments", "treatmentoption"),
            ("treatments", "contraindication"),
            ("clinic", "user"),
            ("clinic", "physicianprofile"),
        ]
        for action in ("add", "change", "delete", "view")
    ]
    + ["clinic.view_outboundemail", "auth.view_group"],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in (name.split(".") for name in codenames)
        ]
        group.permissions.set(permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("treatments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
