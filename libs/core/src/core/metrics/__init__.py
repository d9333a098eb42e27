"""The services' metrics: recorded in memory per request (cheap), published as CloudWatch
embedded metric format lines in Lambda, and served as Prometheus text locally."""
