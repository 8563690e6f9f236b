from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from qualipact.privacy.errors import ApplicationError
from qualipact.rights import fulfil


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def download(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST hands the file over, once."""
    if request.method != "POST":
        return render(request, "rights/download.html")
    try:
        export, content = fulfil.export_download(token=token)
    except ApplicationError as error:
        return render(request, "rights/link_error.html", {"message": error.message}, status=404)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
