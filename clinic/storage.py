"""Where uploaded files live. Staff and patients reach them only through views that
check who asks; the backend is the ``STORAGES["private"]`` setting (docs/scaling.md
says how to move it to object storage for several web hosts)."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateMediaStorage(FileSystemStorage):
    """Uploaded imaging lives outside the web root (``PRIVATE_MEDIA_ROOT``); no URL
    serves it, only ``intake.views.patient.imaging_file``, which checks who asks.
    The location is read from settings on every use, so it follows the setting."""

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)
