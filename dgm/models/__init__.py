"""Foundation models: the metered gateway, pricing, endpoints and local models."""
