"""The JSON API: ``/api/v1/``, schema at ``openapi.json``, docs at ``docs``.

See docs/api.md for authentication, ETags, errors and examples.
"""

from ninja import NinjaAPI

from kam.api import errors, etags
from kam.api.auth import BearerToken, Session
from kam.api.methods import router as method_router
from kam.api.resources import RESOURCES, router_for


class KamAPI(NinjaAPI):
    """Every response carries an ETag: a record's own, else a digest of the body."""

    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        if not response.has_header("ETag"):
            response["ETag"] = etags.of_content(response.content)
        return response


api = KamAPI(
    title="KAM API",
    version="1",
    description="Key-account sales (工业品大客户销售): records and the method. See docs/api.md.",
    auth=[BearerToken(), Session()],
    urls_namespace="api",
)
errors.install(api)
# Method endpoints first: /opportunities/{id}/gate must not be read as a record route.
api.add_router("", method_router)
for resource in RESOURCES:
    api.add_router(f"/{resource.path}", router_for(resource))
