"""`siaga demo tsunami` as a newcomer runs it: BMKG replay -> pollers -> policy -> CAP -> ews channel ->
carousel over UDP multicast -> five set-top-box emulators, in a database of its own."""

import random
import subprocess

from tests import clock


def test_the_tsunami_drill_end_to_end() -> None:
    port = random.randint(20000, 60000)
    done = subprocess.run([*clock.siaga(), "demo", "tsunami", "--pause", "0.5", "--pace", "1", "--http-port", "0",
                           "--udp", f"239.255.112.1:{port}"], capture_output=True, text=True, timeout=240, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    step1, step2, step3 = out.split("\n1)")[1].split("\n2)")[0], out.split("\n2)")[1].split("\n3)")[0], \
        out.split("\n3)")[1]
    rows = {n: {line.split()[0]: line for line in step.splitlines() if line.strip()[:5].isdigit()}
            for n, step in ((1, step1), (2, step2), (3, step3))}
    assert " ticker " in rows[1]["42431"] and "WASPADA" in rows[1]["42431"]
    assert " strip " in rows[1]["42441"] and "mstar" in rows[1]["42441"]  # a real MStar box: a 30% strip
    assert " none " in rows[1]["42111"]  # Kota Serang: not our area
    for postcode in ("42431", "42441", "42417", "42442"):
        assert " fullscreen AWAS    playing" in rows[2][postcode] and "LATIHAN" in rows[2][postcode]
        assert " fullscreen " not in rows[3][postcode]
    assert " none " in rows[2]["42111"]
    assert "tombol diabaikan: BACK, EXIT, MENU, OK, CH_UP, VOL_DOWN, POWER -> fullscreen" in step2
    assert "peringatan masih disiarkan -> fullscreen" in step2
    assert "(mstar): EXIT diabaikan, POWER -> off; POWER lagi -> fullscreen" in step2
    assert "Selesai: setiap STB menampilkan yang seharusnya." in out
