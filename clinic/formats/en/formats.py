"""Date formats of the patient's pages and messages, in English (settings
FORMAT_MODULE_PATH). Django's own English formats stay as they are for everything
else; templates use these names: ``{{ when|date:"PATIENT_DATE_FORMAT" }}``."""

PATIENT_DATE_FORMAT = "j F Y"
PATIENT_DATETIME_FORMAT = "j F Y, H:i"
PATIENT_WEEKDAY_DATE_FORMAT = "l j F Y"
PATIENT_WEEKDAY_DATETIME_FORMAT = "l j F Y, H:i"
PATIENT_DAY_MONTH_FORMAT = "j F"
PATIENT_SHORT_DATE_FORMAT = "j M Y"
PATIENT_SHORT_DAY_MONTH_FORMAT = "j M"
PATIENT_MONTH_YEAR_FORMAT = "F Y"
# E-mail subjects and text messages: "Tue 02 Dec, 14:00".
PATIENT_MESSAGE_DATETIME_FORMAT = "D d M, H:i"
