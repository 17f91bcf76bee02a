"""The /events resource: publishing and polling."""
