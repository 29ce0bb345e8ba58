"""Indonesian DVB-T2 Early Warning System (EWS) signalling. Pure Python: no Django import anywhere here.

- :mod:`siaga.ews.layout`: the EWS private sections as real receivers read them, every fact with its source.
- :mod:`siaga.ews.crc`: CRC-32/MPEG-2.
- :mod:`siaga.ews.sections`: warnings -> packages of at most 5 postcodes -> TRDW / TCDW / TMDW sections and
  back (the plan that fits the receivers, per-sub-table versions).
- :mod:`siaga.ews.ts`: MPEG-TS packetiser (PAT with programme 0x038F, PMT, SDT, PID 0x0080, constant bitrate).
- :mod:`siaga.ews.demux`: packets -> sections, CRC-checked; corrupt input is dropped, never raised.
- :mod:`siaga.ews.receiver`: a set-top box reading the air as MStar's code does (profiles seed, mstar, mtk).
- :mod:`siaga.ews.fromcap`: the EWS warning for a CAP 1.2 alert.
"""
