"""The support app's services: tickets and their emails, links, the thread."""
