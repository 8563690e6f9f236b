"""Administrators write newsletters and send them (staff with MFA, in the role)."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qualipact.comms import newsletters
from qualipact.comms.models import Newsletter
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.web.roles import Role, role_required
from qualipact.web.submissions import submitted_once


class NewsletterForm(forms.Form):
    subject_line = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}))


@never_cache
@role_required(Role.ADMINISTRATOR)
@submitted_once("newsletter-write")
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_list(request: HttpRequest) -> HttpResponse:
    form = NewsletterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            newsletters.newsletter_write(
                subject_line=form.cleaned_data["subject_line"],
                body=form.cleaned_data["body"],
                actor=Actor.staff(request.user.pk),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("comms:staff_newsletters")
    context = {
        "form": form,
        "newsletters": Newsletter.objects.all()[:50],
        "audience": len(newsletters.newsletter_audience()),
    }
    return render(
        request,
        "comms/staff_newsletters.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


@never_cache
@role_required(Role.ADMINISTRATOR)
@submitted_once("newsletter-send")
@require_POST
def newsletter_send(request: HttpRequest, newsletter_id: str) -> HttpResponse:
    newsletter = get_object_or_404(Newsletter, pk=newsletter_id)
    try:
        newsletters.newsletter_send(newsletter=newsletter, actor=Actor.staff(request.user.pk))
    except ApplicationError as exc:
        return render(
            request, "comms/staff_newsletter_sent.html", {"problem": exc.message}, status=409
        )
    # POST/redirect/GET: the result page reads the count recorded on the newsletter.
    return redirect("comms:staff_newsletter_sent", newsletter_id=newsletter.pk)


@never_cache
@role_required(Role.ADMINISTRATOR)
@require_safe
def newsletter_sent(request: HttpRequest, newsletter_id: str) -> HttpResponse:
    newsletter = get_object_or_404(Newsletter, pk=newsletter_id, sent_at__isnull=False)
    return render(request, "comms/staff_newsletter_sent.html", {"count": newsletter.recipients})
