from django.urls import URLPattern, path, re_path

from covidhub.portal import staff_views, views

app_name = "portal"
urlpatterns: list[URLPattern] = [
    path("portal/", views.home, name="home"),
    path("portal/provinces/<str:code>/", views.province, name="province"),
    path("portal/districts/<str:code>/", views.district, name="district"),
    path("portal/communes/<str:code>/", views.commune, name="commune"),
    path(
        "portal/charts/<int:level>/<str:code>/<slug:kind>.<str:language>.svg",
        views.chart,
        name="chart",
    ),
    path("portal/embed/", views.embed, name="embed"),
    path("portal/embed/snippet.html", views.embed_snippet, name="embed_snippet"),
    path("portal/announcements/", views.announcements, name="announcements"),
    path("portal/announcements/<slug:slug>/", views.announcement, name="announcement"),
    path("portal/feed/<str:language>.atom", views.feed, name="feed"),
    path("portal/images/<uuid:uuid>/", views.image, name="image"),
    path("portal/guides/", views.guide_index, name="guides"),
    path("portal/guides/<slug:key>/", views.guide, name="guide"),
    path("portal/faq/", views.faq, name="faq"),
    path("portal/contact/", views.contact, name="contact"),
    path("portal/contact/sent/", views.contact_sent, name="contact_sent"),
    path("portal/data/", views.data_index, name="data"),
    path("portal/data/summary.json", views.data_summary, name="data_summary"),
    re_path(
        r"^portal/data/daily/(?P<code>\d{1,10})\.(?P<extension>csv|json)$",
        views.data_daily,
        name="data_daily",
    ),
    re_path(
        r"^portal/data/daily/(?P<code>\d{1,10})/(?P<period>recent)\.(?P<extension>csv|json)$",
        views.data_daily,
        name="data_daily_recent",
    ),
    # Staff
    path(
        "staff/portal/announcements/",
        staff_views.announcement_list,
        name="staff_announcements",
    ),
    path(
        "staff/portal/announcements/new/",
        staff_views.announcement_edit,
        name="staff_announcement_new",
    ),
    path(
        "staff/portal/announcements/<uuid:uuid>/",
        staff_views.announcement_edit,
        name="staff_announcement",
    ),
    path(
        "staff/portal/announcements/<uuid:uuid>/publish/",
        staff_views.announcement_publish,
        name="staff_announcement_publish",
    ),
    path(
        "staff/portal/announcements/<uuid:uuid>/withdraw/",
        staff_views.announcement_withdraw,
        name="staff_announcement_withdraw",
    ),
    path("staff/portal/images/", staff_views.image_upload, name="staff_images"),
    path(
        "staff/portal/official-counts/",
        staff_views.official_counts,
        name="staff_official_counts",
    ),
    path(
        "staff/portal/official-counts/<uuid:uuid>/remove/",
        staff_views.official_count_remove,
        name="staff_official_count_remove",
    ),
    path("staff/portal/tickets/", staff_views.ticket_list, name="staff_tickets"),
    path("staff/portal/tickets/<uuid:uuid>/", staff_views.ticket_detail, name="staff_ticket"),
]
