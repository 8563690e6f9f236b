from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


@require_safe
def gpc_json(request: HttpRequest) -> JsonResponse:
    # https://privacycg.github.io/gpc-spec/ : we honour Sec-GPC.
    return JsonResponse({"gpc": True, "lastUpdate": settings.GPC_LAST_UPDATE})
