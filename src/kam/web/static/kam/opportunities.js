// The buying center: the org chart (tree) and the whole-brain radar drawn with ECharts
// from the page's json_script data. The list and the table on the page say the same.
(function () {
  "use strict";

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element || !window.echarts) return;
    var chart = window.echarts.init(element);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var source = document.getElementById("buying-center-data");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var labels = data.labels;

    if (data.tree && (data.tree.name || (data.tree.children || []).length)) {
      draw("org-chart", {
        tooltip: { trigger: "item" },
        series: [{
          type: "tree",
          data: [data.tree],
          orient: "TB",
          top: 24, bottom: 48, left: 24, right: 24,
          expandAndCollapse: false,
          label: {
            formatter: function (p) {
              var text = p.name + (p.value ? "\n" + p.value : "");
              return p.data.insider ? text + "\n★ " + labels.insider : text;
            }
          }
        }]
      });
    }

    draw("brain-radar", {
      tooltip: {},
      legend: { bottom: 0, data: [labels.group, labels.decision_makers] },
      radar: {
        indicator: data.radar.map(function (q) { return { name: q.name, max: 100 }; })
      },
      series: [{
        type: "radar",
        data: [
          { name: labels.group, value: data.radar.map(function (q) { return q.group; }) },
          {
            name: labels.decision_makers,
            value: data.radar.map(function (q) { return q.decision_makers; })
          }
        ]
      }]
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
