// Contents of the fixed value lists (see vocabulary.hpp).
#include "vocabulary.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace incmodel::eventgen {
namespace {

constexpr const char *kSite = "https://www.acme.example";

// A url path with its page title, before terms are created.
struct PageSpec {
    std::string path;
    std::string title;
};

// The site's pages. The first entries get the highest zipf weights; the hand-written ones include
// titles with tab, newline, CR, backslash, quotes, commas, a literal \N and \. and UTF-8, so any
// consumer of the output gets its escaping exercised with realistic frequency.
std::vector<PageSpec> BuildPages() {
    std::vector<PageSpec> pages = {
        {"/", "Acme \xe2\x80\x93 Home"},
        {"/pricing", "Pricing | Acme"},
        {"/products", "All products | Acme"},
        {"/blog", "Blog | Acme"},
        {"/docs", "Documentation | Acme"},
        {"/cart", "Your cart | Acme Shop"},
        {"/checkout", "Checkout | Acme Shop"},
        {"/login", "Sign in | Acme"},
        {"/signup", "Create your account | Acme"},
        {"/account", "My account | Acme"},
        {"/about", "About us | Acme"},
        {"/search?q=caf%C3%A9&page=2", "Search results for \"caf\xc3\xa9\", page 2 | Acme"},
        {"/docs/windows/install", "Installing to C:\\Program Files\\Acme | Docs"},
        {"/blog/tabs-vs-spaces", "Tabs\tversus spaces | Acme Blog"},
        {"/blog/release-notes", "Release notes\nVersion 2.0 | Acme Blog"},
        {"/legal/terms", "Terms & Conditions\r\n(updated) | Acme"},
        {"/de/uebersicht",
         "\xc3\x9c"
         "bersicht \xe2\x80\x93 Gr\xc3\xb6\xc3\x9f"
         "en & Ma\xc3\x9f"
         "e"},
        {"/blog/null-marker", "\\N"},
        {"/blog/end-of-data", "\\."},
        {"/contact", "Contact, support & sales | Acme"},
        {"/careers", "Careers | Acme"},
    };
    std::vector<PageSpec> rest;
    static const char *kTopics[] = {"launch",  "sql",       "modeling", "sessions", "tracking",
                                    "privacy", "dashboard", "pricing",  "mobile",   "redshift"};
    for (int n = 1; n <= 100; ++n) {
        std::string topic = kTopics[n % 10];
        rest.push_back(
            {"/blog/" + std::to_string(2020 + n % 6) + "/post-" + std::to_string(n) + "-" + topic,
             "Post " + std::to_string(n) + ": notes on " + topic + " | Acme Blog"});
    }
    static const char *kCategories[] = {"shoes", "shirts", "hats", "bags", "socks", "jackets"};
    for (const char *cat : kCategories) {
        for (int n = 1; n <= 20; ++n) {
            rest.push_back({std::string("/products/") + cat + "/item-" + std::to_string(n) +
                                "?color=" +
                                (n % 3 == 0   ? "red"
                                 : n % 3 == 1 ? "blue"
                                              : "black"),
                            std::string(cat) + " #" + std::to_string(n) + " | Acme Shop"});
        }
    }
    static const char *kDocSections[] = {"getting-started", "api", "sql", "tracking", "modeling"};
    for (const char *section : kDocSections) {
        for (int n = 1; n <= 10; ++n) {
            rest.push_back(
                {std::string("/docs/") + section + "/page-" + std::to_string(n) + "#top",
                 std::string(section) + " \xe2\x80\xba page " + std::to_string(n) + " | Docs"});
        }
    }
    static const char *kQueries[] = {"shoes", "red+hat", "gift+card", "returns", "size+guide",
                                     "sale",  "socks",   "jacket",    "bag",     "api+key"};
    for (const char *q : kQueries) {
        rest.push_back({std::string("/search?q=") + q, std::string("Search: ") + q + " | Acme"});
    }
    // Fixed shuffle (independent of --seed) so popularity is not ordered by section.
    Rng rng(0x5eed5eed);
    for (size_t i = rest.size(); i > 1; --i) std::swap(rest[i - 1], rest[rng.Below(i)]);
    pages.insert(pages.end(), rest.begin(), rest.end());
    return pages;
}

// Zipf weights 1/(rank+1)^s for `n` ranks.
std::vector<double> ZipfWeights(size_t n, double s) {
    std::vector<double> w(n);
    for (size_t i = 0; i < n; ++i) w[i] = 1.0 / std::pow(static_cast<double>(i + 1), s);
    return w;
}

}  // namespace

const Term *Vocabulary::Add(std::string value) {
    terms_.emplace_back(std::move(value));
    return &terms_.back();
}

Vocabulary::Vocabulary() {
    for (const PageSpec &page : BuildPages()) {
        page_urls_.push_back(Add(kSite + page.path));
        page_titles_.push_back(Add(page.title));
    }
    page_sampler_ = AliasTable(ZipfWeights(page_urls_.size(), 1.0));

    const std::pair<const char *, double> apps[] = {{"website", 80}, {"shop", 15}, {"docs", 5}};
    std::vector<double> weights;
    for (const auto &[name, weight] : apps) {
        app_ids_.push_back(Add(name));
        weights.push_back(weight);
    }
    app_sampler_ = AliasTable(weights);

    const std::pair<const char *, double> countries[] = {
        {"US", 30},  {"GB", 10}, {"DE", 8},    {"IN", 7},   {"FR", 6},   {"CA", 5},   {"BR", 4},
        {"JP", 3},   {"AU", 3},  {"NL", 3},    {"ES", 2.5}, {"IT", 2.5}, {"SE", 1.5}, {"PL", 1.5},
        {"MX", 1.5}, {"KR", 1},  {"CH", 1},    {"BE", 1},   {"AT", 1},   {"IE", 1},   {"SG", 1},
        {"ZA", 1},   {"NZ", .5}, {"NO", .5},   {"DK", .5},  {"FI", .5},  {"PT", .5},  {"AR", .5},
        {"TR", .5},  {"ID", .5}, {nullptr, .5}};
    weights.clear();
    for (const auto &[code, weight] : countries) {
        countries_.push_back(code ? Add(code) : nullptr);
        weights.push_back(weight);
    }
    country_sampler_ = AliasTable(weights);

    struct DeviceSpec {
        const char *br;
        const char *os;
        const char *type;
        double weight;
    };
    const DeviceSpec devices[] = {
        {"Chrome", "Windows", "Computer", 25},        {"Chrome", "Mac OS X", "Computer", 8},
        {"Safari", "Mac OS X", "Computer", 7},        {"Edge", "Windows", "Computer", 6},
        {"Firefox", "Windows", "Computer", 4},        {"Firefox", "Linux", "Computer", 1.5},
        {"Chrome", "Linux", "Computer", 1.5},         {"Opera", "Windows", "Computer", 1},
        {"Mobile Safari", "iOS", "Mobile", 18},       {"Chrome Mobile", "Android", "Mobile", 15},
        {"Samsung Internet", "Android", "Mobile", 3}, {"Mobile Safari", "iOS", "Tablet", 4},
        {"Chrome", "Android", "Tablet", 1},           {"Unknown", "Unknown", "Unknown", 1}};
    weights.clear();
    for (const DeviceSpec &d : devices) {
        devices_.push_back({Add(d.br), Add(d.os), Add(d.type)});
        weights.push_back(d.weight);
    }
    device_sampler_ = AliasTable(weights);

    internal_medium_ = Add("internal");
    struct MediumSpec {
        const char *medium;
        double weight;
        std::vector<const char *> referrers;
    };
    const MediumSpec mediums[] = {
        {nullptr, 35, {}},
        {"search",
         30,
         {"https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/",
          "https://www.google.co.uk/", "https://search.yahoo.com/search?p=acme&fr=yfp"}},
        {"social",
         12,
         {"https://t.co/x1y2z3", "https://www.facebook.com/", "https://www.linkedin.com/feed/",
          "https://www.reddit.com/r/analytics/comments/abc123/acme/",
          "https://news.ycombinator.com/item?id=4242"}},
        {"email",
         8,
         {"https://mail.google.com/mail/u/0/", "https://outlook.live.com/mail/0/inbox"}},
        {"unknown",
         10,
         {"https://partner-blog.example.net/2025/12/best-tools?ref=acme&utm_source=blog",
          "https://example.org/links.html", "http://localhost:8080/test"}},
        {"internal",
         5,
         {"https://docs.acme.example/getting-started", "https://status.acme.example/"}},
    };
    weights.clear();
    for (const MediumSpec &m : mediums) {
        if (m.medium == nullptr) {
            mediums_.push_back(nullptr);
        } else if (std::string(m.medium) == "internal") {
            mediums_.push_back(internal_medium_);
        } else {
            mediums_.push_back(Add(m.medium));
        }
        referrers_.emplace_back();
        for (const char *r : m.referrers) referrers_.back().push_back(Add(r));
        weights.push_back(m.weight);
    }
    medium_sampler_ = AliasTable(weights);

    event_names_[static_cast<int>(EventType::kPageView)] = Add("page_view");
    event_names_[static_cast<int>(EventType::kPagePing)] = Add("page_ping");
    event_names_[static_cast<int>(EventType::kStruct)] = Add("struct");
    event_names_[static_cast<int>(EventType::kTransaction)] = Add("transaction");
    platform_ = Add("web");
}

Landing Vocabulary::SampleLanding(Rng &rng) const {
    const uint32_t m = medium_sampler_.Sample(rng);
    const auto &refs = referrers_[m];
    if (refs.empty()) return {mediums_[m], nullptr};
    return {mediums_[m], refs[rng.Below(refs.size())]};
}

}  // namespace incmodel::eventgen
