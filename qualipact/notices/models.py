from django.db import models


class PolicyVersion(models.Model):
    """One published version of the privacy policy. Immutable once published."""

    version = models.PositiveIntegerField(unique=True)
    effective_date = models.DateField()
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    summary_of_changes = models.TextField(blank=True)
    published_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Privacy policy v{self.version} ({self.effective_date})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("A published policy version is immutable; publish a new one")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
