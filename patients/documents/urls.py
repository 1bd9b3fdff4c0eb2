"""Documents: after-visit summaries and emergency cards, served only through authorised views."""

from django.urls import path

from patients.documents import views

app_name = "documents"

urlpatterns = [
    path("<int:pk>/", views.document_download, name="summary"),
    path("visit/<int:visit_pk>/regenerate/", views.visit_summary_regenerate, name="regenerate"),
    path("patient/<int:patient_pk>/", views.document_list, name="list"),
    path("card/<int:patient_pk>/", views.emergency_card_page, name="card"),
    path("card/<int:patient_pk>/pdf/", views.emergency_card_download, name="card_pdf"),
]
