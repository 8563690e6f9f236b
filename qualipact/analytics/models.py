"""Cookieless page statistics: one day's salt, one day's visitor hashes, and aggregates.

Nothing here is linked to a DataSubject. `DailySalt` and `VisitorHash` are pseudonymous
data that live for one UTC day and are deleted together; `PageStat` and `DailyTotal`
hold counts only. See "Cookieless analytics" in docs/architecture.md.
"""

from django.db import models
from django.db.models import F, Q


class DailySalt(models.Model):
    """The random secret of one UTC day. Deleting it makes that day's hashes unlinkable."""

    day = models.DateField(primary_key=True)
    salt = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"Salt of {self.day}"


class VisitorHash(models.Model):
    """Proof that one visitor was already counted today by one counter (the day or a row).

    `digest` is HMAC-SHA256(salt, visitor hash | counter): the same visitor gives a
    different digest for every counter, so the rows cannot be joined into a trail.
    Deleted with the day's salt.
    """

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(db_index=True)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Visitor hash of {self.day}"


class PageStat(models.Model):
    """Views and unique visitors of one page on one UTC day, split by where they came from."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    # The URL pattern ("/privacy/v<int>/"), never the raw path or its query string.
    path = models.CharField(max_length=255)
    # The referring host only ("news.example.com"), and only when it is another site.
    referrer_domain = models.CharField(max_length=253, blank=True)
    # ISO 3166-1 alpha-2 from iptocc; empty when unknown (private or unallocated address).
    country = models.CharField(max_length=2, blank=True)
    browser = models.CharField(max_length=64)
    views = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "-visitors", "path"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "path", "referrer_domain", "country", "browser"],
                name="pagestat_one_row_per_key",
            ),
            models.CheckConstraint(
                condition=Q(visitors__lte=F("views")), name="pagestat_visitors_le_views"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.path}: {self.views} views, {self.visitors} visitors"


class DailyTotal(models.Model):
    """Views and unique visitors of the whole site on one UTC day."""

    day = models.DateField(primary_key=True)
    views = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visitors__lte=F("views")), name="dailytotal_visitors_le_views"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.views} views, {self.visitors} visitors"
