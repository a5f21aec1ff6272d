"""Date and number formats of the patient's pages and messages, in Spanish (see
clinic/formats/en/formats.py): "martes 2 de diciembre de 2026"."""

PATIENT_DATE_FORMAT = r"j \d\e F \d\e Y"
PATIENT_DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"
PATIENT_WEEKDAY_DATE_FORMAT = r"l j \d\e F \d\e Y"
PATIENT_WEEKDAY_DATETIME_FORMAT = r"l j \d\e F \d\e Y, H:i"
PATIENT_DAY_MONTH_FORMAT = r"j \d\e F"
PATIENT_SHORT_DATE_FORMAT = "j M Y"
PATIENT_SHORT_DAY_MONTH_FORMAT = "j M"
PATIENT_MONTH_YEAR_FORMAT = r"F \d\e Y"
PATIENT_MESSAGE_DATETIME_FORMAT = "D d M, H:i"

# Prices in US dollars as Spanish speakers in the United States write them ("$1,200",
# as in es-US and es-MX), not Spain's "1.200".
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
