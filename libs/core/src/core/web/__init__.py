"""The FastAPI and Strawberry pieces every service app is assembled from."""
