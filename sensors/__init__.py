"""Sensors of the code location; each package list is appended in the composition root."""

from sensors.pending_uploads import pending_uploads_sensor

storage_sensors = [pending_uploads_sensor]

__all__ = ["pending_uploads_sensor", "storage_sensors"]
