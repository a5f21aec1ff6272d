from typing import Any

import factory
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from clinic.models import PhysicianProfile, User
from clinic.roles import GROUP_NAMES, Role
from treatments.models import BodyRegion

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@clinic.example")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(obj: User, create: bool, extracted: Role | None, **kwargs: Any) -> None:
        if create and extracted is not None:
            obj.groups.add(Group.objects.get(name=GROUP_NAMES[extracted]))


class PhysicianFactory(DjangoModelFactory[PhysicianProfile]):
    class Meta:
        model = PhysicianProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.PHYSICIAN)
    display_name = factory.LazyAttribute(lambda profile: f"Dr {profile.user.full_name}")

    @factory.post_generation
    def regions(
        obj: PhysicianProfile, create: bool, extracted: list[str] | None, **kw: Any
    ) -> None:
        if create and extracted:
            obj.body_regions.set(BodyRegion.objects.filter(slug__in=extracted))
