from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"site_name": "Qualipact"}
