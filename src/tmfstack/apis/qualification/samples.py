"""Create bodies the qualification rules accept, for the generic API tests (``ResourceDecl.sample``):
a body made of the schema's required attributes names nothing to qualify."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...engine.declaration import Sample
from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.service import ResourceService


async def check(svc: ResourceService) -> Doc:
    return {"serviceQualificationItem": [{"id": "1", "service": {"serviceSpecification": {"id": "sample"}}}]}


async def query(svc: ResourceService) -> Doc:
    return {"searchCriteria": {"service": {"place": [{"id": "sample", "role": "installationAddress"}]}}}


async def offering(svc: ResourceService) -> Doc:
    return {"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "sample"}}]}


#: resource name -> its sample
SAMPLES: dict[str, Sample] = {
    "checkServiceQualification": check,
    "queryServiceQualification": query,
    "productOfferingQualification": offering,
}
