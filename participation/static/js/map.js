// The one map component (templates/core/map.html): every map of the platform is a
// <div data-map> configured by data- attributes, drawn by the vendored Leaflet.
//   data-tile-url, data-attribution, data-max-zoom  the base map (none: a plain background)
//   data-centres   JSON [{name, lat, lon, major}]  the region's municipal centres, labelled
//                  (cities always, districts from zoom 9)
//   data-points    JSON [{lat, lon, label, url?, tag?}] read-only points; with url the point
//                  is focusable and opens a popup whose link (focused) leads to its page;
//                  tag: a short permanent label («№ 2»)
//   data-outline   JSON GeoJSON geometry: a territory's boundary, drawn and fitted
//   data-home      JSON {lat, lon}  where to open without a point (else: fit the centres) (a message's point)
//   data-cells     JSON [{south, west, north, east, count, level}] a heat-map layer: rectangles
//                  shaded by level 1…5 (CSS classes map-heat-N, the legend's too);
//                  data-text-cell says a cell's count ("{count}")
//   data-editable  a point picker: data-lat-input / data-lon-input (ids of the text fields
//                  it fills and follows), data-locate-url + data-region + data-territory-select
//                  (the territory list filled from the point), data-address-input +
//                  data-reverse-url (the address field filled from the point by the optional
//                  geocoder while the person has not typed one), data-text-* (the words)
// Without JavaScript the block stays hidden and the form's text fields do the work.
(function () {
  "use strict";
  if (!window.L) { return; }
  var L = window.L;

  function json(el, name, fallback) {
    var raw = el.getAttribute(name);
    if (!raw) { return fallback; }
    try { return JSON.parse(raw); } catch (e) { return fallback; }
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function round(value) { return Math.round(value * 1e6) / 1e6; }

  function parseCoordinate(raw) {
    var text = String(raw || "").trim().replace(",", ".");
    if (!text || !/^-?\d+(\.\d+)?$/.test(text)) { return null; }
    return parseFloat(text);
  }

  function setup(el) {
    var block = el.closest(".map-block") || el;
    block.hidden = false;
    var maxZoom = parseInt(el.getAttribute("data-max-zoom"), 10) || 18;
    var map = L.map(el, {
      maxZoom: maxZoom,
      zoomControl: false,
      keyboard: true,
      attributionControl: true
    });
    L.control.zoom({
      zoomInTitle: el.getAttribute("data-text-zoom-in") || "+",
      zoomOutTitle: el.getAttribute("data-text-zoom-out") || "-"
    }).addTo(map);
    map.attributionControl.setPrefix(false);
    var tiles = el.getAttribute("data-tile-url");
    if (tiles) {
      L.tileLayer(tiles, {
        maxZoom: maxZoom,
        attribution: escapeHtml(el.getAttribute("data-attribution") || "")
      }).addTo(map);
    } else {
      el.classList.add("map-plain");
    }

    var bounds = [];
    var minor = [];  // districts' labels: shown from LABEL_ZOOM up, so that they do not pile up
    var LABEL_ZOOM = 9;
    json(el, "data-centres", []).forEach(function (c) {
      var dot = L.circleMarker([c.lat, c.lon], {
        radius: c.major ? 6 : 4, weight: 2, color: "#1d4f91",
        fillColor: c.major ? "#1d4f91" : "#ffffff", fillOpacity: 1, interactive: false
      }).addTo(map);
      var label = L.tooltip({
        permanent: true, direction: "right", className: "map-centre-label", interactive: false
      }).setContent(escapeHtml(c.name));
      dot.bindTooltip(label);
      if (!c.major) { minor.push(dot); }
      bounds.push([c.lat, c.lon]);
    });
    function showLabels() {
      var close = map.getZoom() >= LABEL_ZOOM;
      minor.forEach(function (dot) {
        if (close) { dot.openTooltip(); } else { dot.closeTooltip(); }
      });
    }
    map.on("zoomend", showLabels);
    var points = json(el, "data-points", []);
    var focus = L.latLngBounds([]);
    points.forEach(function (p) {
      var marker = L.marker([p.lat, p.lon], {
        keyboard: !!p.url, alt: p.label || "", title: p.label || ""
      }).addTo(map);
      if (p.tag) {
        marker.bindTooltip(escapeHtml(p.tag), {
          permanent: true, direction: "right", className: "map-point-label", interactive: false
        });
      }
      if (p.url) {
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.label || p.tag || p.url;
        marker.bindPopup(link);
        // A keyboard user lands on the link (Escape closes the popup, back to the point).
        marker.on("popupopen", function (event) {
          var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
          if (close) { close.setAttribute("aria-label", el.getAttribute("data-text-close") || ""); }
          link.focus();
        });
      }
      focus.extend([p.lat, p.lon]);
    });
    var outline = json(el, "data-outline", null);
    if (outline) {
      var shapeLayer = L.geoJSON(outline, {
        interactive: false,
        style: { color: "#1d4f91", weight: 2, fillColor: "#1d4f91", fillOpacity: 0.08 }
      }).addTo(map);
      focus.extend(shapeLayer.getBounds());
    }

    var cells = json(el, "data-cells", []);
    var cellBounds = null;
    cells.forEach(function (c) {
      var box = [[c.south, c.west], [c.north, c.east]];
      L.rectangle(box, {
        className: "map-cell map-heat-" + c.level, weight: 1, fillOpacity: 0.6
      }).bindTooltip((el.getAttribute("data-text-cell") || "{count}")
        .replace("{count}", c.count), { sticky: true }).addTo(map);
      cellBounds = cellBounds ? cellBounds.extend(box) : L.latLngBounds(box);
    });

    var home = json(el, "data-home", null);
    if (cellBounds) {
      map.fitBounds(cellBounds, { padding: [20, 20], maxZoom: 14 });
    } else if (outline || points.length > 1) {
      map.fitBounds(focus, { padding: [30, 30], maxZoom: Math.min(15, maxZoom) });
    } else if (points.length) {
      map.setView([points[0].lat, points[0].lon], Math.min(15, maxZoom));
    } else if (home) {
      map.setView([home.lat, home.lon], Math.min(11, maxZoom));
    } else if (bounds.length > 1) {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 12 });
    } else if (bounds.length === 1) {
      map.setView(bounds[0], Math.min(11, maxZoom));
    } else {
      map.setView([56, 60], 4);
    }

    showLabels();
    if (el.hasAttribute("data-editable")) { picker(el, map); }
    return map;
  }

  function picker(el, map) {
    function say(name) { return el.getAttribute("data-text-" + name) || ""; }
    var lat = document.getElementById(el.getAttribute("data-lat-input"));
    var lon = document.getElementById(el.getAttribute("data-lon-input"));
    var territory = document.getElementById(el.getAttribute("data-territory-select") || "");
    var locateUrl = el.getAttribute("data-locate-url");
    var region = el.getAttribute("data-region");
    var block = el.closest(".map-block") || el.parentNode;
    var status = block.querySelector("[data-map-status]");
    var locateButton = block.querySelector("[data-map-geolocate]");
    var address = document.getElementById(el.getAttribute("data-address-input") || "");
    var reverseUrl = el.getAttribute("data-reverse-url");
    var addressStatus = block.querySelector("[data-map-address-status]");
    var filledAddress = null;  // what the map last put in the address field
    var askedAddress = 0;
    var marker = null;
    var asked = 0;

    function tell(text, isError) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }

    function findTerritory(latlng) {
      if (!locateUrl || !region || !territory || !window.fetch) { return; }
      var ticket = ++asked;
      var url = locateUrl + (locateUrl.indexOf("?") < 0 ? "?" : "&") +
        "lat=" + encodeURIComponent(round(latlng.lat)) +
        "&lon=" + encodeURIComponent(round(latlng.lng)) +
        (region ? "&region=" + encodeURIComponent(region) : "");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          return response.json().then(
            function (body) { return { ok: response.ok, status: response.status, body: body }; },
            function () { return { ok: false, status: response.status, body: {} }; });
        })
        .then(function (answer) {
          if (ticket !== asked) { return; }  // a later point was placed meanwhile
          if (!answer.ok) {
            // 422: the point is outside the region or in no territory; the reason in Russian.
            if ((answer.status === 422 || answer.status === 400) && answer.body &&
                answer.body.detail) { tell(answer.body.detail, true); }
            return;
          }
          var found = answer.body.territory;
          if (!found) { return; }
          // The list holds municipalities and settlements: the point's own, else its municipality.
          var option = [found, found.municipality].map(function (t) {
            return t && territory.querySelector('option[value="' + t.id + '"]');
          }).filter(function (o) { return o && !o.disabled; })[0];
          if (option) {
            territory.value = option.value;
            territory.dispatchEvent(new Event("change", { bubbles: true }));
            tell(say("territory").replace("{name}", option.textContent.trim()), false);
          } else {
            tell(say("unserved").replace("{name}", found.name), true);
          }
        })
        .catch(function () { /* the resident chooses the territory from the list */ });
    }

    function typedAddress() {
      var value = address.value.trim();
      return value !== "" && value !== filledAddress;
    }

    // The optional geocoder (GEOCODER_URL) names the point; the person's own words win.
    // Asked once the point rests (arrow keys move it in steps): one request, not one a step.
    var addressTimer = null;
    function findAddress(latlng) {
      if (!address || !reverseUrl || !window.fetch || typedAddress()) { return; }
      var ticket = ++askedAddress;
      clearTimeout(addressTimer);
      addressTimer = setTimeout(function () { askAddress(latlng, ticket); }, 400);
    }

    function askAddress(latlng, ticket) {
      var url = reverseUrl + (reverseUrl.indexOf("?") < 0 ? "?" : "&") +
        "lat=" + encodeURIComponent(round(latlng.lat)) +
        "&lon=" + encodeURIComponent(round(latlng.lng));
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (ticket !== askedAddress || !body || !body.address || typedAddress()) { return; }
          address.value = body.address;
          filledAddress = body.address;
          if (addressStatus) {
            addressStatus.textContent = say("address").replace("{address}", body.address);
          }
        })
        .catch(function () { /* no address: the person types it */ });
    }

    function place(latlng, options) {
      options = options || {};
      latlng = L.latLng(round(latlng.lat), round(latlng.lng));
      if (!marker) {
        marker = L.marker(latlng, {
          draggable: true, keyboard: true, alt: say("marker"), title: say("marker")
        }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng()); });
        var icon = marker.getElement();
        icon.setAttribute("aria-describedby", el.getAttribute("aria-describedby") || "");
        // Arrows move the focused marker (Shift: finer); the map's own keys stay off it.
        L.DomEvent.on(icon, "keydown", function (event) {
          var step = event.shiftKey ? 2 : 20;
          var moves = { ArrowUp: [0, -step], ArrowDown: [0, step],
            ArrowLeft: [-step, 0], ArrowRight: [step, 0] };
          var move = moves[event.key];
          if (!move) { return; }
          L.DomEvent.stop(event);
          var at = map.latLngToContainerPoint(marker.getLatLng()).add(move);
          place(map.containerPointToLatLng(at), { keep: true });
        });
      } else {
        marker.setLatLng(latlng);
      }
      if (!options.fromInputs) {
        if (lat) { lat.value = latlng.lat.toFixed(6); }
        if (lon) { lon.value = latlng.lng.toFixed(6); }
      }
      if (!options.keep || !map.getBounds().contains(latlng)) {
        if (!map.getBounds().pad(-0.1).contains(latlng)) { map.panTo(latlng); }
      }
      tell(say("placed").replace("{lat}", latlng.lat.toFixed(6))
        .replace("{lon}", latlng.lng.toFixed(6)), false);
      findTerritory(latlng);
      if (!options.initial) { findAddress(latlng); }
      // The form listens (appeals.js: «Похожие сообщения рядом»).
      el.dispatchEvent(new CustomEvent("map:point", { bubbles: true }));
    }

    map.on("click", function (event) { place(event.latlng); });
    // On the focused map: arrows pan (Leaflet), Enter or Space puts the point at the centre,
    // which the crosshair shows while the map has the focus.
    L.DomEvent.on(el, "keydown", function (event) {
      if (event.target !== el) { return; }
      if (event.key === "Enter" || event.key === " ") {
        L.DomEvent.stop(event);
        place(map.getCenter());
      }
    });

    function fromInputs() {
      var a = parseCoordinate(lat && lat.value);
      var b = parseCoordinate(lon && lon.value);
      if (a === null || b === null || Math.abs(a) > 90 || Math.abs(b) > 180) { return; }
      place(L.latLng(a, b), { fromInputs: true });
      map.setView([a, b], Math.max(map.getZoom(), 14));
    }
    [lat, lon].forEach(function (input) {
      if (input) { input.addEventListener("change", fromInputs); }
    });
    if (lat && lon && lat.value && lon.value) {
      var a = parseCoordinate(lat.value), b = parseCoordinate(lon.value);
      if (a !== null && b !== null) {
        map.setView([a, b], Math.min(15, map.getMaxZoom()));
        place(L.latLng(a, b), { fromInputs: true, initial: true });
      }
    }

    if (locateButton && navigator.geolocation) {
      locateButton.hidden = false;
      locateButton.addEventListener("click", function () {
        tell(say("locating"), false);
        navigator.geolocation.getCurrentPosition(function (position) {
          var here = L.latLng(position.coords.latitude, position.coords.longitude);
          map.setView(here, Math.min(16, map.getMaxZoom()));
          place(here);
        }, function () {
          tell(say("no-location"), true);
        }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
  }

  window.participationMaps = [];
  Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), function (el) {
    window.participationMaps.push(setup(el));
  });
})();
