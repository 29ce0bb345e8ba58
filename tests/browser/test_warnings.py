"""Browser: a manual warning written on the desk by the operator, approved by the supervisor, appears on the
wall (banner, evacuation layer) and on the public page without a reload."""

from typing import Any

from tests.browser.conftest import new_context, screenshot


def test_desk_to_wall_and_public_page(login: Any, site: Any, browser: Any) -> None:
    wall = login("wall", 1920, 1080)
    wall.goto(site.url + "/wall/")
    wall.wait_for_selector("#banner", state="attached")
    public_context = new_context(browser, viewport={"width": 1280, "height": 900})
    public = public_context.new_page()
    public.goto(site.url + "/peringatan/")
    assert public.locator("#no-warning").is_visible()

    operator = login("operator")
    operator.goto(site.url + "/peringatan/kelola/")
    form = operator.locator("#draft-form")
    form.locator("select[name=hazard]").select_option("kimia")
    form.locator("select[name=display]").select_option("fullscreen")
    form.locator("select[name=severity]").select_option("Extreme")
    form.locator("input[name=headline]").fill("Kebocoran amonia di Ciwandan")
    form.locator("textarea[name=description]").fill("Gas amonia bocor dari pabrik di Jl. Raya Anyer.")
    form.locator("textarea[name=instruction]").fill("Tetap di dalam ruangan, tutup jendela, matikan AC.")
    form.locator("input[name=exercise]").check()
    form.locator("button[type=submit]").click()
    operator.wait_for_load_state("networkidle")
    assert "persetujuan" in operator.locator(".messages").inner_text()

    supervisor = login("supervisor")
    supervisor.goto(site.url + "/peringatan/kelola/")
    supervisor.locator("#drafts button[value=approve]").first.click()
    supervisor.wait_for_load_state("networkidle")
    supervisor.wait_for_selector("#active-threads tr.fullscreen")
    screenshot(supervisor, "warnings-desk")

    wall.wait_for_selector("#banner.fullscreen:not([hidden])", timeout=10_000)
    assert "Kebocoran amonia" in wall.locator("#banner").inner_text()
    assert "evacuation-alert" in (wall.locator("body, .wall").first.get_attribute("class") or "") or \
        wall.locator(".evacuation-alert").count() == 1
    screenshot(wall, "wall-with-warning")

    public.wait_for_selector(".warning-card.fullscreen", timeout=10_000)
    assert "LATIHAN" in public.locator(".warning-card.fullscreen").inner_text()
    screenshot(public, "public-warnings")
    public_context.close()
    for page in (wall, operator, supervisor):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_a_flagged_decision_is_on_the_wall_until_a_supervisor_reviews_it(login: Any, site: Any) -> None:
    import subprocess

    from tests.e2e.servers import SIAGA

    created = subprocess.run([*SIAGA, "shell", "-c", (
        "from django.utils import timezone; from siaga.hazards.models import HazardEvent; "
        "e = HazardEvent.objects.create(key='bmkg-review-test', origin_time=timezone.now(), lat=-6.85, lon=105.22, "
        "magnitude=7.3, region='Selat Sunda', display='fullscreen', ews_level='AWAS', "
        "review=['tsunami_criteria', 'unknown_potential_wording']); print(e.pk)")],
        env=site.env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    wall = login("wall", 1920, 1080)
    wall.goto(site.url + "/wall/")
    wall.wait_for_selector("#review-flag:not([hidden])", timeout=10_000)
    flag = wall.locator("#review-flag").inner_text()
    assert "M7.3 Selat Sunda" in flag and ("BMKG" in flag)
    screenshot(wall, "wall-review-flag")

    supervisor = login("supervisor")
    supervisor.goto(site.url + "/peringatan/kelola/")
    item = supervisor.locator("#to-review li", has_text="Selat Sunda")
    assert "kriteria tsunami BMKG" in item.inner_text() or "tsunami criteria" in item.inner_text()
    item.locator("input[name=note]").fill("dicek dengan BMKG per telepon")
    item.locator("button[type=submit]").click()
    supervisor.wait_for_load_state("networkidle")
    assert supervisor.locator("#to-review").count() == 0
    wall.wait_for_selector("#review-flag[hidden]", state="attached", timeout=10_000)  # live, without a reload
    for page in (wall, supervisor):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
