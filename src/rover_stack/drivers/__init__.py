"""Serial sensor drivers of the real rover: GNSS (NMEA 0183) and IMU (line protocol); docs/drivers.md."""
