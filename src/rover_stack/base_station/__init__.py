"""Base station: the web bridge (page + WebSocket), link safety and terminal teleop (docs/base_station.md)."""
