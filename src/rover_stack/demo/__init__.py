"""Small demo and test nodes used by the bringup tests (heartbeat talker/listener, a failing node)."""
