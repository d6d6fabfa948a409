"""The thank-you and order-status UI extensions, their build and the app configuration."""
