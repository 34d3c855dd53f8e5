// The fixed value lists the generator draws text columns from (pages, referrers, countries,
// devices, ...), each with a skewed distribution. The vocabulary does not depend on the seed, so
// two runs always share the same url/title/country spellings.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "event.hpp"
#include "random.hpp"

namespace incmodel::eventgen {

// Browser / OS / device-type triple; drawn once per user so a cookie keeps one device.
struct DeviceProfile {
    const Term *br_family;
    const Term *os_family;
    const Term *dvce_type;
};

// How a session arrived: refr_medium and page_referrer of its landing page view (both null for
// direct traffic).
struct Landing {
    const Term *medium;
    const Term *referrer;
};

class Vocabulary {
  public:
    // Builds every list and its sampler.
    Vocabulary();
    Vocabulary(const Vocabulary &) = delete;
    Vocabulary &operator=(const Vocabulary &) = delete;

    // Pages: a few hundred urls with titles, zipf-distributed by rank (home page most common).
    uint32_t SamplePage(Rng &rng) const { return page_sampler_.Sample(rng); }
    const Term *PageUrl(uint32_t page) const { return page_urls_[page]; }
    const Term *PageTitle(uint32_t page) const { return page_titles_[page]; }
    size_t PageCount() const { return page_urls_.size(); }

    // Per-user attributes.
    const Term *SampleAppId(Rng &rng) const { return app_ids_[app_sampler_.Sample(rng)]; }
    const Term *SampleCountry(Rng &rng) const { return countries_[country_sampler_.Sample(rng)]; }
    const DeviceProfile &SampleDevice(Rng &rng) const {
        return devices_[device_sampler_.Sample(rng)];
    }

    // Per-session landing medium and external referrer.
    Landing SampleLanding(Rng &rng) const;
    // refr_medium of a page view reached by navigating within the site.
    const Term *InternalMedium() const { return internal_medium_; }

    // Constant-ish columns.
    const Term *EventName(EventType type) const { return event_names_[static_cast<int>(type)]; }
    const Term *Platform() const { return platform_; }

    // Every term, for tests that check escaping of the whole vocabulary.
    const std::deque<Term> &AllTerms() const { return terms_; }

  private:
    // Stores a term with stable address and returns it.
    const Term *Add(std::string value);

    std::deque<Term> terms_;
    std::vector<const Term *> page_urls_, page_titles_;
    AliasTable page_sampler_;
    std::vector<const Term *> app_ids_;
    AliasTable app_sampler_;
    std::vector<const Term *> countries_;  // may contain nullptr (geo lookup failed)
    AliasTable country_sampler_;
    std::vector<DeviceProfile> devices_;
    AliasTable device_sampler_;
    std::vector<const Term *> mediums_;                 // nullptr = direct
    std::vector<std::vector<const Term *>> referrers_;  // per medium
    AliasTable medium_sampler_;
    const Term *internal_medium_ = nullptr;
    const Term *event_names_[kEventTypeCount] = {};
    const Term *platform_ = nullptr;
};

}  // namespace incmodel::eventgen
