"""The administration pages (admin role only), one module per area; ``routes`` lists them."""
