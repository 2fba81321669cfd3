/* Charts of the accounts section: the 20/80 (Pareto) chart and the whole-brain radar.
   Each chart reads its data from a json_script element; the same numbers are in a
   table next to it, so the page says everything without JavaScript. */
(function () {
  "use strict";

  function data(el) {
    var source = document.getElementById(el.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  var builders = {
    pareto: function (d) {
      return {
        tooltip: { trigger: "axis" },
        legend: { data: [d.labels.revenue, d.labels.cumulative] },
        grid: { left: 60, right: 50, bottom: 80 },
        xAxis: { type: "category", data: d.names, axisLabel: { rotate: 40, interval: 0 } },
        yAxis: [
          { type: "value", name: d.labels.revenue },
          { type: "value", name: "%", min: 0, max: 100 }
        ],
        series: [
          { name: d.labels.revenue, type: "bar", data: d.revenue },
          {
            name: d.labels.cumulative, type: "line", yAxisIndex: 1, data: d.cumulative,
            markLine: { silent: true, symbol: "none", data: [{ yAxis: 80 }] }
          }
        ]
      };
    },
    radar: function (d) {
      return {
        tooltip: {},
        radar: { indicator: d.indicators, radius: "65%" },
        series: [{ type: "radar", areaStyle: { opacity: 0.2 }, data: [{ value: d.values, name: d.name }] }]
      };
    }
  };

  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-kam-chart]").forEach(function (el) {
      var build = builders[el.dataset.kamChart];
      var d = data(el);
      if (!build || !d) { return; }
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      chart.setOption(build(d));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
