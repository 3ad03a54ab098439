from django.urls import path

from districts import places_api, views

urlpatterns = [
    path("places/alias-proposals/", views.alias_proposals, name="alias-proposals"),
    path(
        "places/alias-proposals/<int:pk>/<str:decision>/",
        views.alias_proposal_decide,
        name="alias-proposal-decide",
    ),
]

api_urlpatterns = [
    path("places/streets/", places_api.StreetsView.as_view(), name="api-place-streets"),
    path("places/communities/", places_api.CommunitiesView.as_view(), name="api-place-communities"),
]
