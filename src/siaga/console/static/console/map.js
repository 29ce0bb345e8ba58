/* The city map, offline: Kota Cilegon's kelurahan boundaries are the base layer; tiles only when configured. */
(function () {
  "use strict";
  const S = window.Siaga;

  async function cityMap(element, options) {
    const opts = options || {};
    const map = L.map(element, { zoomControl: !opts.wall, attributionControl: !!opts.tiles, zoomSnap: 0.25,
                                  keyboard: false });
    if (opts.tiles) {
      L.tileLayer(opts.tiles, { maxZoom: 19, attribution: opts.tilesAttribution || "" }).addTo(map);
    }
    map.setView([-5.99, 106.03], 12);
    const regions = await S.api("GET", "/regions/geojson?level=kelurahan");
    const base = L.geoJSON(regions, {
      style: { color: "#546e7a", weight: 1, fillColor: "#eceff1", fillOpacity: opts.tiles ? 0.05 : 0.9 },
      onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.name, { sticky: true }),
    }).addTo(map);
    const kecamatan = await S.api("GET", "/regions/geojson?level=kecamatan");
    L.geoJSON(kecamatan, { style: { color: "#263238", weight: 2, fill: false }, interactive: false }).addTo(map);
    map.fitBounds(base.getBounds(), { padding: [8, 8] });
    return map;
  }

  const STATUS_RING = { new: "#000", verified: "#000", dispatched: "#1565c0", on_scene: "#6a1b9a",
                        resolved: "#2e7d32" };

  function incidentMarker(incident) {
    const colour = S.PRIORITY_COLOURS[incident.priority] || "#555";
    return L.circleMarker([incident.lat, incident.lon], {
      radius: incident.priority === 1 ? 10 : 8, color: STATUS_RING[incident.status] || "#000", weight: 3,
      fillColor: colour, fillOpacity: 0.9,
    }).bindTooltip(incident.ticket + " · " + (incident.category || ""));
  }

  window.SiagaMap = { cityMap, incidentMarker };
})();
