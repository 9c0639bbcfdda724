"""Small rendering helpers and widgets shared by the screens."""
