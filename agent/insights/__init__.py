"""What the service's own data says: the support KPIs (kpis.py) over the lifecycle summary
(agent/storage/events.py)."""
