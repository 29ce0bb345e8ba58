"""DVB-T2 EWS on air: the carousel of active warnings (a dissemination channel of the alerts app) and the
set-top-box emulator that receives it. The signalling itself is pure, in :mod:`siaga.ews`."""
