"""The lead page's sub-stage and re-qualification forms.

Their names stay in the `reviews` namespace they had before the pipeline left reviews
(`reviews:opportunity_stage`, `reviews:resolve_requalification`): qualify/urls.py includes these
patterns there, so templates and reverse() calls keep working. No app_name here for that reason.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("leads/<int:lead_id>/opportunity-stage/", views.opportunity_stage, name="opportunity_stage"),
    path("requalifications/<int:req_id>/resolve/", views.resolve_requalification, name="resolve_requalification"),
]
