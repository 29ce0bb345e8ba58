"""Indonesian DVB-T2 Early Warning System (EWS) signalling. Pure Python: no Django import anywhere here.

- :mod:`siaga.ews.layout`: the bit layout of the EWS private sections, every inferred part in one place.
- :mod:`siaga.ews.crc`: CRC-32/MPEG-2.
- :mod:`siaga.ews.sections`: :class:`~siaga.ews.sections.Message` <-> TRDW / TCDW / TMDW sections.
- :mod:`siaga.ews.ts`: MPEG-TS packetiser (PAT, PMT, SDT, the EWS PID, constant bitrate).
- :mod:`siaga.ews.demux`: packets -> sections, CRC-checked; corrupt input is dropped, never raised.
- :mod:`siaga.ews.receiver`: the set-top box's state machine (profiles seed, kominfo2024, mtk).
- :mod:`siaga.ews.fromcap`: the EWS message for a CAP 1.2 alert.
"""
