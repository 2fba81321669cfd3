from django.shortcuts import render

from kam.method.process import DEFAULT_SETTINGS as PROCESS_DEFAULTS


def home(request):
    """The front page: what KAM is, and the six stages of the method."""
    return render(request, "kam/home.html", {"stages": PROCESS_DEFAULTS.stages})
