"""Campaign pages: `manage.py` (desktop: campaigns, tasks, review, progress, quality, the
epidemic list, exports) and `field.py` (the phone: my tasks, working a task offline)."""
