"""HTTP routes, one module per resource; api/app.py mounts them."""
