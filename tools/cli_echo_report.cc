// sparrow echo-study's report: runs.csv, summary.csv, the two plots and
// summary.md (tools/cli_echo_study.h).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tools/cli.h"
#include "tools/cli_echo.h"
#include "tools/cli_echo_study.h"
#include "tools/plot.h"
#include "trainer/checkpoint.h"

namespace sparrow {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// RFC 4180: a field with a comma, quote or line break goes in quotes, its
// quotes doubled (model specs have commas).
std::string CsvField(const std::string& f) {
  if (f.find_first_of(",\"\r\n") == std::string::npos) return f;
  std::string q = "\"";
  for (char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

Status WriteText(const std::string& path, const std::string& text) {
  return train::WriteFileAtomically(
      path, std::vector<uint8_t>(text.begin(), text.end()));
}

// The median; an even count averages the middle two. Infinite values (runs
// that missed the target) sort last, so the median is finite only when more
// than half of the runs reached it.
double Median(std::vector<double> v) {
  if (v.empty()) return kInf;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

struct Stat {
  double median = kInf, min = kInf, max = kInf;  // min/max over finite values
};

Stat Summarize(const std::vector<double>& v) {
  Stat s;
  s.median = Median(v);
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    s.min = std::isfinite(s.min) ? std::min(s.min, x) : x;
    s.max = std::isfinite(s.max) ? std::max(s.max, x) : x;
  }
  return s;
}

// One configuration (placement, e) over its seeds.
struct Group {
  std::string placement, echo;
  EchoSetting setting;
  int runs = 0, reached = 0;
  Stat seconds, fresh, consumed, steps;
  double effective_echo = 0, final_accuracy = 0, wait = 0, dup = 0;
};

std::vector<Group> MakeGroups(const std::vector<StudyRun>& runs) {
  std::vector<Group> groups;
  std::vector<std::string> placements = {"any"};
  for (const StudyRun& r : runs) {
    if (std::find(placements.begin(), placements.end(), r.placement) ==
        placements.end()) {
      placements.push_back(r.placement);
    }
  }
  for (const std::string& place : placements) {
    std::vector<std::string> echoes;
    for (const StudyRun& r : runs) {
      if (r.placement == place &&
          std::find(echoes.begin(), echoes.end(), r.echo) == echoes.end()) {
        echoes.push_back(r.echo);
      }
    }
    for (const std::string& echo : echoes) {
      Group g;
      g.placement = place;
      g.echo = echo;
      g.setting = ParseEcho(echo).value();
      std::vector<double> sec, fresh, consumed, steps, eff, acc, wait, dup;
      for (const StudyRun& r : runs) {
        if (r.placement != place || r.echo != echo) continue;
        ++g.runs;
        g.reached += r.reached;
        sec.push_back(r.reached ? r.seconds_to_target : kInf);
        fresh.push_back(r.reached ? r.fresh_to_target : kInf);
        consumed.push_back(r.reached ? r.consumed_to_target : kInf);
        steps.push_back(r.reached ? r.steps_to_target : kInf);
        eff.push_back(r.effective_echo);
        acc.push_back(r.final_accuracy);
        wait.push_back(r.wait_fraction);
        dup.push_back(r.duplicate_rate);
      }
      g.seconds = Summarize(sec);
      g.fresh = Summarize(fresh);
      g.consumed = Summarize(consumed);
      g.steps = Summarize(steps);
      g.effective_echo = Median(eff);
      g.final_accuracy = Median(acc);
      g.wait = Median(wait);
      g.dup = Median(dup);
      groups.push_back(g);
    }
  }
  return groups;
}

const Group* Baseline(const std::vector<Group>& groups) {
  for (const Group& g : groups) {
    if (!g.setting.automatic && g.setting.factor == 1.0) return &g;
  }
  return nullptr;
}

// "" for an undefined value (a missed target, no e = 1 baseline).
std::string Num(double v, const char* format) {
  return std::isfinite(v) ? Format(format, v) : std::string();
}

double Ratio(double a, const Group* base, Stat Group::*field) {
  if (base == nullptr) return kInf;
  const double b = (base->*field).median;
  return std::isfinite(a) && std::isfinite(b) && b > 0 ? a / b : kInf;
}

std::string PlacementLabel(const std::string& p) {
  if (p == "before_augment") return "before augment";
  if (p == "after_augment") return "after augment";
  return p;
}

// One chart of `field` against e: a series per placement over the fixed e
// (e = 1 shared), one single-point series per placement for auto, at its
// median effective e. Error bars reach the farther of min and max.
Chart MakeChart(const std::vector<Group>& groups, Stat Group::*field,
                const std::string& title, const std::string& y_label) {
  Chart c;
  c.title = title;
  // Wide enough that the legend (8 entries) fits beside the plot when every
  // corner of the plot holds data.
  c.width = 1000;
  c.x_label = "echo factor e (auto: at its median effective e)";
  c.y_label = y_label;
  const Group* base = Baseline(groups);
  if (base != nullptr && std::isfinite((base->*field).median)) {
    c.hline = (base->*field).median;
    c.hline_label = "e = 1 (no echo)";
  }
  auto add = [](Series* s, double x, const Stat& v) {
    s->x.push_back(x);
    s->y.push_back(v.median);
    s->y_err.push_back(std::max(v.median - v.min, v.max - v.median));
  };
  std::vector<Series> autos;
  for (const Group& g : groups) {
    if (g.placement == "any") continue;
    if (g.setting.automatic) {
      if (!std::isfinite((g.*field).median) || !std::isfinite(g.effective_echo))
        continue;
      Series s;
      s.label = "auto, " + PlacementLabel(g.placement);
      add(&s, g.effective_echo, g.*field);
      autos.push_back(s);
      continue;
    }
    auto it =
        std::find_if(c.series.begin(), c.series.end(), [&](const Series& s) {
          return s.label == PlacementLabel(g.placement);
        });
    if (it == c.series.end()) {
      Series s;
      s.label = PlacementLabel(g.placement);
      if (base != nullptr && std::isfinite((base->*field).median)) {
        add(&s, 1.0, base->*field);
      }
      c.series.push_back(s);
      it = c.series.end() - 1;
    }
    if (std::isfinite((g.*field).median)) add(&*it, g.setting.factor, g.*field);
  }
  c.series.insert(c.series.end(), autos.begin(), autos.end());
  c.series.erase(std::remove_if(c.series.begin(), c.series.end(),
                                [](const Series& s) { return s.x.empty(); }),
                 c.series.end());
  if (c.series.empty() && base != nullptr &&
      std::isfinite((base->*field).median)) {
    Series s;
    s.label = "e = 1";
    add(&s, 1.0, base->*field);
    c.series.push_back(s);
  }
  return c;
}

std::string SummaryCsv(const std::vector<Group>& groups) {
  const Group* base = Baseline(groups);
  std::string csv =
      "placement,echo,runs,reached,effective_echo,seconds_to_target,"
      "seconds_min,seconds_max,seconds_vs_e1,fresh_to_target,fresh_min,"
      "fresh_max,fresh_vs_e1,consumed_to_target,steps_to_target,final_accuracy,"
      "final_accuracy_vs_e1_points,wait_fraction,duplicate_rate\n";
  for (const Group& g : groups) {
    const double acc_delta =
        base != nullptr ? 100 * (g.final_accuracy - base->final_accuracy)
                        : kInf;
    csv += g.placement + "," + g.echo + "," + std::to_string(g.runs) + "," +
           std::to_string(g.reached) + "," + Num(g.effective_echo, "%.4f") +
           "," + Num(g.seconds.median, "%.3f") + "," +
           Num(g.seconds.min, "%.3f") + "," + Num(g.seconds.max, "%.3f") + "," +
           Num(Ratio(g.seconds.median, base, &Group::seconds), "%.4f") + "," +
           Num(g.fresh.median, "%.0f") + "," + Num(g.fresh.min, "%.0f") + "," +
           Num(g.fresh.max, "%.0f") + "," +
           Num(Ratio(g.fresh.median, base, &Group::fresh), "%.4f") + "," +
           Num(g.consumed.median, "%.0f") + "," + Num(g.steps.median, "%.0f") +
           "," + Num(g.final_accuracy, "%.6f") + "," + Num(acc_delta, "%.3f") +
           "," + Num(g.wait, "%.6f") + "," + Num(g.dup, "%.6f") + "\n";
  }
  return csv;
}

std::string Cell(const Stat& s, const char* format) {
  if (!std::isfinite(s.median)) return "not reached";
  return Format(format, s.median) + " [" + Format(format, s.min) + ", " +
         Format(format, s.max) + "]";
}

std::string SummaryTable(const std::vector<Group>& groups) {
  const Group* base = Baseline(groups);
  std::string t =
      "| placement | e | effective e | reached | seconds to target | vs e=1 | "
      "fresh to target | vs e=1 | consumed to target | final accuracy | vs e=1 "
      "(points) | wait | dup |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
      "---: | ---: | ---: |\n";
  for (const Group& g : groups) {
    const double ts = Ratio(g.seconds.median, base, &Group::seconds);
    const double fs = Ratio(g.fresh.median, base, &Group::fresh);
    const std::string acc_delta =
        base != nullptr
            ? Format("%+.2f", 100 * (g.final_accuracy - base->final_accuracy))
            : "";
    t += "| " + g.placement + " | " + g.echo + " | " +
         Format("%.2f", g.effective_echo) + " | " +
         Format("%d/%d", g.reached, g.runs) + " | " + Cell(g.seconds, "%.2f") +
         " | " + (std::isfinite(ts) ? Format("%.2fx", ts) : "") + " | " +
         Cell(g.fresh, "%.0f") + " | " +
         (std::isfinite(fs) ? Format("%.2fx", fs) : "") + " | " +
         (std::isfinite(g.consumed.median) ? Format("%.0f", g.consumed.median)
                                           : "") +
         " | " + Format("%.2f%%", 100 * g.final_accuracy) + " | " + acc_delta +
         " | " + Format("%.1f%%", 100 * g.wait) + " | " +
         Format("%.1f%%", 100 * g.dup) + " |\n";
  }
  return t;
}

std::string SetupText(const StudySetup& s) {
  std::string cost = Format("%.1f us/example (SIMULATED, %s)",
                            s.upstream_cost_us, s.cost_mode.c_str());
  if (s.upstream_ratio > 0) {
    cost += Format(" = %g x the measured training step (%.1f us/example)",
                   s.upstream_ratio, s.step_us);
  }
  std::string text = Format(
      "Model `%s`, %zu training examples, batch %zu, `%s`, %zu thread(s); "
      "augment `%s`; shuffle buffer %zu examples (batch-level echoing: %zu "
      "batches). ",
      s.model.c_str(), s.train_examples, s.batch, s.optimizer.c_str(),
      s.threads, s.augment.c_str(), s.shuffle_buffer,
      s.shuffle_buffer / std::max<size_t>(1, s.batch));
  text += "Upstream cost " + cost + ". ";
  text += Format(
      "Target %.2f%% test accuracy on the first %zu test examples, evaluated "
      "every %zu consumed examples; at most %d fresh epochs; %d seed(s); auto "
      "bounded by %g.\n\n",
      100 * s.target, s.eval_examples, s.eval_every, s.max_fresh_epochs,
      s.seeds, s.echo_max);
  text +=
      "Seconds are each run's training clock (waiting for data plus training "
      "steps; evaluation excluded, with the pipeline's source paused "
      "meanwhile: runs.csv's prefetched_during_eval counts what it still "
      "read). Medians over seeds, a "
      "run that missed the target counting as infinitely slow; [min, max] "
      "over the seeds that reached it. ";
  text += s.final_seconds > 0
              ? Format(
                    "Final accuracy: each run's test accuracy after %g s on "
                    "its clock (the same budget for every configuration).\n",
                    s.final_seconds)
              : std::string(
                    "Final accuracy: at the end of each run (when it "
                    "reached the target, or after its last fresh "
                    "epoch); --final_seconds compares at a fixed "
                    "budget instead.\n");
  return text;
}

}  // namespace

constexpr char kRunsHeader[] =
    "model,placement,echo,seed,effective_echo,reached,seconds_to_target,"
    "fresh_to_target,consumed_to_target,steps_to_target,final_accuracy,"
    "seconds,fresh,consumed,steps,wait_fraction,duplicate_rate,evaluations,"
    "eval_seconds,prefetched_during_eval,upstream_rate";

// One CSV line's fields (RFC 4180 quotes, as CsvField writes them).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

StatusOr<std::vector<StudyRun>> ReadRunsCsv(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) {
    return NotFound("%s: cannot open (run the study first): %s", path.c_str(),
                    strerror(errno));
  }
  std::vector<StudyRun> runs;
  std::string line;
  Status status;
  size_t number = 0;
  for (int c = fgetc(f);; c = fgetc(f)) {
    if (c != EOF && c != '\n') {
      line += static_cast<char>(c);
      continue;
    }
    if (!line.empty()) {
      ++number;
      if (number == 1) {
        if (line != kRunsHeader) {
          status = InvalidArgument("%s: not a runs.csv of echo-study (header "
                                   "'%s')", path.c_str(), line.c_str());
          break;
        }
      } else {
        const std::vector<std::string> v = SplitCsv(line);
        if (v.size() != 21) {
          status = DataLoss("%s:%zu: %zu fields, want 21", path.c_str(),
                            number, v.size());
          break;
        }
        StudyRun r;
        r.model = v[0];
        r.placement = v[1];
        r.echo = v[2];
        char* end = nullptr;
        size_t col = 3;
        auto num = [&](size_t i) {
          col = i;
          end = nullptr;
          const double x = strtod(v[i].c_str(), &end);
          if (end == v[i].c_str() || *end != '\0') end = nullptr;
          return x;
        };
        bool ok = true;
        auto get = [&](size_t i, double* out) {
          *out = num(i);
          ok = ok && end != nullptr;
        };
        auto get_u = [&](size_t i, uint64_t* out) {
          double x;
          get(i, &x);
          *out = static_cast<uint64_t>(x);
        };
        double reached = 0, evaluations = 0;
        get_u(3, &r.seed);
        get(4, &r.effective_echo);
        get(5, &reached);
        r.reached = reached != 0;
        if (r.reached) {
          get(6, &r.seconds_to_target);
          get_u(7, &r.fresh_to_target);
          get_u(8, &r.consumed_to_target);
          get_u(9, &r.steps_to_target);
        }
        get(10, &r.final_accuracy);
        get(11, &r.seconds);
        get_u(12, &r.fresh);
        get_u(13, &r.consumed);
        get_u(14, &r.steps);
        get(15, &r.wait_fraction);
        get(16, &r.duplicate_rate);
        get(17, &evaluations);
        r.evaluations = static_cast<int>(evaluations);
        get(18, &r.eval_seconds);
        get_u(19, &r.prefetched_during_eval);
        get(20, &r.upstream_rate);
        if (!ok || !ParseEcho(r.echo).ok()) {
          status = DataLoss("%s:%zu: malformed row near column %zu",
                            path.c_str(), number, col + 1);
          break;
        }
        runs.push_back(std::move(r));
      }
    }
    line.clear();
    if (c == EOF) break;
  }
  fclose(f);
  SPARROW_RETURN_IF_ERROR(status);
  if (runs.empty()) return DataLoss("%s: no runs", path.c_str());
  return runs;
}

Status WriteRunsCsv(const std::string& path,
                    const std::vector<StudyRun>& runs) {
  std::string csv = std::string(kRunsHeader) + "\n";
  for (const StudyRun& r : runs) {
    csv += CsvField(r.model) + "," + r.placement + "," + r.echo + "," +
           std::to_string(r.seed) + "," + Format("%.4f", r.effective_echo) +
           "," + (r.reached ? "1" : "0") + ",";
    if (r.reached) {
      csv += Format("%.3f,%llu,%llu,%llu,", r.seconds_to_target,
                    static_cast<unsigned long long>(r.fresh_to_target),
                    static_cast<unsigned long long>(r.consumed_to_target),
                    static_cast<unsigned long long>(r.steps_to_target));
    } else {
      csv += ",,,,";
    }
    csv += Format("%.6f,%.3f,%llu,%llu,%llu,%.6f,%.6f,%d,%.3f,%llu,%.1f\n",
                  r.final_accuracy, r.seconds,
                  static_cast<unsigned long long>(r.fresh),
                  static_cast<unsigned long long>(r.consumed),
                  static_cast<unsigned long long>(r.steps), r.wait_fraction,
                  r.duplicate_rate, r.evaluations, r.eval_seconds,
                  static_cast<unsigned long long>(r.prefetched_during_eval),
                  r.upstream_rate);
  }
  return WriteText(path, csv);
}

Status WriteStudyReport(const std::string& dir, const StudySetup& setup,
                        const std::vector<StudyRun>& runs, std::string* table) {
  const std::vector<Group> groups = MakeGroups(runs);
  SPARROW_RETURN_IF_ERROR(WriteText(dir + "/summary.csv", SummaryCsv(groups)));
  const std::string what =
      Format("%.1f%% test accuracy (%s, upstream %.0f us/example)",
             100 * setup.target, setup.model.c_str(), setup.upstream_cost_us);
  const Chart charts[2] = {
      MakeChart(groups, &Group::seconds, "Time to " + what,
                "seconds (training clock)"),
      MakeChart(groups, &Group::fresh, "Fresh examples to " + what,
                "fresh examples")};
  const char* names[2] = {"time_to_target.png", "fresh_to_target.png"};
  std::string plots;
  for (int i = 0; i < 2; ++i) {
    if (charts[i].series.empty()) {
      plots +=
          Format("(%s: no configuration reached the target)\n\n", names[i]);
      continue;
    }
    SPARROW_RETURN_IF_ERROR(WritePngChart(charts[i], dir + "/" + names[i]));
    plots += Format("![%s](%s)\n\n", names[i], names[i]);
  }
  *table = SummaryTable(groups);
  const std::string md = "# sparrow echo-study\n\n```\n" + setup.command_line +
                         "\n```\n\n" + SetupText(setup) + "\n" + *table + "\n" +
                         plots;
  return WriteText(dir + "/summary.md", md);
}

}  // namespace sparrow
