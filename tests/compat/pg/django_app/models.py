from django.db import models


class Sensor(models.Model):
    name = models.CharField(max_length=50, unique=True)
    location = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "django_app"


class Reading(models.Model):
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="readings")
    time = models.DateTimeField(db_index=True)
    value = models.FloatField()
    ok = models.BooleanField(default=True)
    note = models.TextField(null=True)

    class Meta:
        app_label = "django_app"
        indexes = [models.Index(fields=["sensor", "time"], name="reading_sensor_time_idx")]
