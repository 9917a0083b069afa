# One date format throughout: "4 Dec 2026" and "4 Dec 2026, 14:05" (24-hour clock), in templates
# ({{ value }}, |date, |date:"DATETIME_FORMAT") and in messages (django.utils.formats.date_format).
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
