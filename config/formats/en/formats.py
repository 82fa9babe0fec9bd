"""Dates in English that no reader can take the wrong way round: 11 Oct 2021 (10/11/2021
is 10 November to one reader and 11 October to another)."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "j M Y H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1
