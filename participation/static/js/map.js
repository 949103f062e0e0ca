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
//   data-points-url  a JSON endpoint of many points: asked with &bbox=south,west,north,east
//                  of the visible map whenever it moves, answering {points, capped, limit};
//                  clustered with Leaflet.markercluster when the page loads it.
//                  data-point-kind "staff" (the popup links to the message card) or "public"
//                  (category, status colour, text and address when the region publishes them)
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

    // The centres' labels lie under the points (markers 600, tooltips 650 by default).
    map.createPane("map-labels").style.zIndex = 550;
    var bounds = [];
    var minor = [];  // districts' labels: shown from LABEL_ZOOM up, so that they do not pile up
    var LABEL_ZOOM = 9;
    json(el, "data-centres", []).forEach(function (c) {
      var dot = L.circleMarker([c.lat, c.lon], {
        radius: c.major ? 6 : 4, weight: 2, color: "#1d4f91",
        fillColor: c.major ? "#1d4f91" : "#ffffff", fillOpacity: 1, interactive: false
      }).addTo(map);
      var label = L.tooltip({
        permanent: true, direction: "right", className: "map-centre-label", interactive: false,
        pane: "map-labels"
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
    if (el.hasAttribute("data-points-url")) { remote(el, map); }
    return map;
  }

  function clamp(value, limit) { return Math.max(-limit, Math.min(limit, round(value))); }

  function remote(el, map) {
    function say(name) { return el.getAttribute("data-text-" + name) || ""; }
    var url = el.getAttribute("data-points-url");
    var kind = el.getAttribute("data-point-kind") || "staff";
    var block = el.closest(".map-block") || el.parentNode;
    var status = block.querySelector("[data-map-status]");
    var layer = L.markerClusterGroup ? L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 45,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        var size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
        // The count is shown; the sentence is what a screen reader says of the button.
        var hidden = escapeHtml(say("cluster").replace("{n}", n));
        var icon = L.divIcon({
          html: "<div><span aria-hidden=\"true\">" + n + "</span><span class=\"visually-hidden\">" +
            hidden + "</span></div>",
          className: "marker-cluster marker-cluster-" + size,
          iconSize: L.point(40, 40)
        });
        return icon;
      }
    }) : L.featureGroup();
    layer.addTo(map);
    var asked = 0;
    var timer = null;
    var fitted = false;
    var loads = 0;

    function tell(text, isError) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }

    function line(parent, text, tag) {
      var node = document.createElement(tag || "p");
      node.textContent = text;
      parent.appendChild(node);
      return node;
    }

    function popup(p) {
      var box = document.createElement("div");
      box.className = "map-popup";
      if (kind === "staff") {
        var title = document.createElement("p");
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = say("number").replace("{number}", p.number);
        title.appendChild(link);
        box.appendChild(title);
        line(box, p.category + " › " + p.subcategory);
        line(box, p.state_label);
      } else {
        line(box, p.category, "strong");
        line(box, p.subcategory);
        var state = line(box, p.status_label);
        state.className = "map-popup-status map-status-" + p.status;
        if (p.address) { line(box, say("address") + " " + p.address); }
        if (p.text) { line(box, p.text).className = "map-popup-text"; }
      }
      return box;
    }

    function label(p) {
      if (kind === "staff") {
        return say("number").replace("{number}", p.number) + ": " + p.subcategory + ", " +
          p.state_label;
      }
      return p.category + ", " + p.subcategory + ": " + p.status_label;
    }

    function show(body) {
      layer.clearLayers();
      var markers = (body.points || []).map(function (p) {
        var group = kind === "staff" ? "staff" : p.status;
        var marker = L.marker([p.lat, p.lon], {
          icon: L.divIcon({ className: "map-pin map-pin-" + group, iconSize: [18, 18] }),
          keyboard: true,
          title: label(p)
        });
        marker.bindPopup(popup(p));
        return marker;
      });
      if (layer.addLayers) { layer.addLayers(markers); } else {
        markers.forEach(function (m) { layer.addLayer(m); });
      }
      var n = markers.length;
      if (body.capped) {
        tell(say("capped").replace("{n}", n), false);
      } else if (!n) {
        tell(say("empty"), false);
      } else {
        tell(say("count").replace("{n}", n), false);
      }
      if (!fitted && n && !body.capped) {
        fitted = true;
        var bounds = L.latLngBounds(markers.map(function (m) { return m.getLatLng(); }));
        if (!map.getBounds().pad(-0.05).contains(bounds) || n === 1) {
          map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
        }
      }
      fitted = true;
      el.setAttribute("data-points-loaded", String(++loads));
    }

    function load() {
      if (!window.fetch) { return; }
      var b = map.getBounds();
      var bbox = [clamp(b.getSouth(), 90), clamp(b.getWest(), 180),
        clamp(b.getNorth(), 90), clamp(b.getEast(), 180)].join(",");
      var ticket = ++asked;
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "bbox=" + encodeURIComponent(bbox), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (body) { if (ticket === asked) { show(body); } })
        .catch(function () { if (ticket === asked) { tell(say("failed"), true); } });
    }

    map.on("moveend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 200);
    });
    load();
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
