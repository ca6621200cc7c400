"""A small Django app for tests/compat/pg/test_django.py: a sensor table and a readings table with a
foreign key and indexes, as a Django project keeping time series would write them."""
