//! Following `@odata.nextLink`: only on the configured Graph origin, never in a loop, and
//! within a budget derived from what the listing can hold — items per page, items per listing
//! (the `@odata.count` the first page announced, or a ceiling far above any tenant), pages per
//! listing (derived from those items at the expected page size), a floor on the average page,
//! and a stop on a run of pages that add nothing.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;

use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::{DeserializeOwned, SeqAccess, Visitor};

use super::{GraphClient, origin_of};
use crate::graph::batch_item::BatchResponse;
use crate::graph::error::GraphError;
use crate::graph::request::{ApiVersion, Query};

/// Items one page may hold. Graph's largest pages are 999 (directory) to a few thousand
/// (Intune reports); a page past this is refused while it is read, before it is all allocated.
pub(crate) const MAX_PAGE_ITEMS: usize = 50_000;
/// Items one listing may hold when the first page did not announce `@odata.count`: far above
/// any tenant's directory (Entra's default object quota is 300,000), far below what would
/// exhaust memory.
pub(crate) const MAX_LISTING_ITEMS: u64 = 2_000_000;
/// Pages in a row without an item (but with a nextLink) before the listing is given up. Graph
/// may answer a page with fewer items than asked, even none (a type cast over a group of
/// mostly devices is filtered after paging), so this is generous.
pub(crate) const MAX_EMPTY_PAGES: u32 = 100;
/// Pages after which the average page must hold at least one item (see [`Budget`]): a server
/// sending next to nothing with a new nextLink each time is stopped here, not after hundreds
/// of thousands of requests, while short pages of a real listing pass.
pub(crate) const AVERAGE_AFTER_PAGES: u64 = 200;
/// `$top` assumed when the request set none: Graph's smallest default page size.
const DEFAULT_PAGE: u64 = 100;
/// The smallest full page expected whatever `$top` asked for: some Graph endpoints cap their
/// pages at 100.
const SMALLEST_FULL_PAGE: u64 = 100;

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub(crate) struct Page<T> {
    #[serde(deserialize_with = "bounded_items")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    /// The collection's size, when the request asked for it (`$count=true`).
    #[serde(rename = "@odata.count", default)]
    pub count: Option<u64>,
}

/// A JSON array of at most [`MAX_PAGE_ITEMS`], refused at the first item past it.
fn bounded_items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    bounded_seq(d, MAX_PAGE_ITEMS, "the page")
}

/// A JSON array of at most `max` items, refused at the first item past it ("`what` holds
/// more than `max` items"), before it is all allocated.
pub(crate) fn bounded_seq<'de, D, T>(
    d: D,
    max: usize,
    what: &'static str,
) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    struct Items<T> {
        max: usize,
        what: &'static str,
        item: PhantomData<T>,
    }
    impl<'de, T: DeserializeOwned> Visitor<'de> for Items<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "an array of at most {} items", self.max)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max.min(1024)));
            while let Some(item) = seq.next_element()? {
                if out.len() == self.max {
                    return Err(serde::de::Error::custom(format!(
                        "{} holds more than {} items",
                        self.what, self.max
                    )));
                }
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Items {
        max,
        what,
        item: PhantomData,
    })
}

/// What is left of one listing's allowance. A page is expected to hold `min($top, 100)`
/// items (the expected page); the listing holds at most `max_items` (the announced
/// `@odata.count` plus slack, else [`MAX_LISTING_ITEMS`]) in at most as many pages as that
/// takes at the expected page, plus a few; after [`AVERAGE_AFTER_PAGES`] pages the average
/// page must hold at least one item; and [`MAX_EMPTY_PAGES`] pages in a row without
/// an item end it. Without `@odata.count` and with `$top=999` that is at most 20,011 pages,
/// and a server trickling one item per page is stopped after 20.
#[derive(Debug)]
pub(crate) struct Budget {
    /// Items a page is expected to hold: `min($top, 100)`.
    expected_page: u64,
    max_items: u64,
    max_pages: u64,
    pages: u64,
    items: u64,
    empty_run: u32,
}

impl Budget {
    pub fn new(first: &Url) -> Budget {
        let top = first
            .query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case("$top"))
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .filter(|t| *t > 0)
            .unwrap_or(DEFAULT_PAGE);
        let mut b = Budget {
            expected_page: top.min(SMALLEST_FULL_PAGE),
            max_items: 0,
            max_pages: 0,
            pages: 0,
            items: 0,
            empty_run: 0,
        };
        b.hold(MAX_LISTING_ITEMS);
        b
    }

    /// The most pages this budget allows.
    #[cfg(test)]
    pub fn max_pages(&self) -> u64 {
        self.max_pages
    }

    /// The listing holds at most `items`: pages for them at the expected page, plus a few.
    fn hold(&mut self, items: u64) {
        self.max_items = items;
        self.max_pages = items.div_ceil(self.expected_page) + MAX_EMPTY_PAGES as u64 + 1;
    }

    /// Accounts for one page; `Err` says why the listing must stop.
    pub fn page(&mut self, items: usize, announced: Option<u64>, more: bool) -> Result<(), String> {
        if self.pages == 0
            && let Some(n) = announced
        {
            // Slack for objects created while paging.
            self.hold(n.saturating_add((n / 10).max(1000)).min(MAX_LISTING_ITEMS));
        }
        self.pages += 1;
        self.items += items as u64;
        self.empty_run = if items == 0 { self.empty_run + 1 } else { 0 };
        if self.items > self.max_items {
            return Err(format!(
                "more than {} items (the most this listing can hold); stopped after {} pages",
                self.max_items, self.pages
            ));
        }
        if !more {
            return Ok(());
        }
        if self.empty_run >= MAX_EMPTY_PAGES {
            return Err(format!(
                "{} pages in a row added no item but still had an @odata.nextLink",
                self.empty_run
            ));
        }
        if self.pages >= AVERAGE_AFTER_PAGES && self.items < self.pages {
            return Err(format!(
                "{} pages held {} items, fewer than one a page on average (pages of {} were asked for), and still an @odata.nextLink",
                self.pages, self.items, self.expected_page
            ));
        }
        if self.pages >= self.max_pages {
            return Err(format!(
                "{} pages for {} items and still an @odata.nextLink (at most {} pages expected)",
                self.pages, self.items, self.max_pages
            ));
        }
        Ok(())
    }
}

impl GraphClient {
    /// Every item of a collection, following `@odata.nextLink` (see [`Self::for_each_page`]).
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        version: ApiVersion,
        path: &str,
        query: &Query,
    ) -> Result<Vec<T>, GraphError> {
        let mut all = Vec::new();
        self.for_each_page(version, path, query, |page: Vec<T>| {
            all.extend(page);
            ControlFlow::Continue(())
        })
        .await?;
        Ok(all)
    }

    /// Pages a collection and hands each page to `on_page` as it arrives, so callers need not
    /// hold everything. Adds `$top={page_size}` unless the query sets `$top` or opts out.
    /// Follows `@odata.nextLink` verbatim, but only on the configured Graph origin, and stops
    /// with an error on a repeated link or past the listing's [`Budget`]. Returns the number
    /// of items seen.
    pub async fn for_each_page<T, F>(
        &self,
        version: ApiVersion,
        path: &str,
        query: &Query,
        on_page: F,
    ) -> Result<u64, GraphError>
    where
        T: DeserializeOwned,
        F: FnMut(Vec<T>) -> ControlFlow<()>,
    {
        let mut q = query.clone();
        if !q.no_top && !q.has("$top") {
            q = q.top(self.inner.options.page_size);
        }
        let url = self.url(version, path, &q)?;
        self.page_from(url, path, q.eventual, on_page).await
    }

    /// Continues a listing from an absolute `@odata.nextLink` (e.g. one found in a `$batch`
    /// item) to its end, with the same origin and loop checks as [`Self::for_each_page`].
    pub async fn list_from_next_link<T: DeserializeOwned>(
        &self,
        next_link: &str,
        eventual_consistency: bool,
    ) -> Result<Vec<T>, GraphError> {
        // Name the listing by its path only: the link itself may carry credentials.
        let label = Url::parse(next_link)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| "(unparseable @odata.nextLink)".to_string());
        let url = self.checked_next_link(next_link, &label, None)?;
        let mut all = Vec::new();
        self.page_from(url, &label, eventual_consistency, |page: Vec<T>| {
            all.extend(page);
            ControlFlow::Continue(())
        })
        .await?;
        Ok(all)
    }

    /// The items of a `$batch` answer holding a collection page, following its nextLink.
    pub async fn batch_item_list<T: DeserializeOwned>(
        &self,
        response: BatchResponse,
    ) -> Result<Vec<T>, GraphError> {
        let label = response.url.clone();
        let page: Page<T> = response.into_result()?;
        let mut items = page.value;
        if let Some(next) = page.next_link {
            let url = self.checked_next_link(&next, &label, None)?;
            self.page_from(url, &label, false, |more: Vec<T>| {
                items.extend(more);
                ControlFlow::Continue(())
            })
            .await?;
        }
        Ok(items)
    }

    /// Parses a nextLink and refuses any origin but the configured Graph's.
    fn checked_next_link(
        &self,
        next: &str,
        listing: &str,
        request_id: Option<String>,
    ) -> Result<Url, GraphError> {
        let next_url = Url::parse(next).map_err(|e| GraphError::Decode {
            method: "GET".into(),
            path: listing.to_string(),
            message: format!("@odata.nextLink is not a URL: {e}"),
            request_id,
        })?;
        if !super::same_origin(&next_url, &self.inner.base) {
            return Err(GraphError::ForeignNextLink {
                path: listing.to_string(),
                foreign_origin: origin_of(&next_url),
                expected_origin: origin_of(&self.inner.base),
            });
        }
        Ok(next_url)
    }

    async fn page_from<T, F>(
        &self,
        first: Url,
        listing: &str,
        eventual: bool,
        mut on_page: F,
    ) -> Result<u64, GraphError>
    where
        T: DeserializeOwned,
        F: FnMut(Vec<T>) -> ControlFlow<()>,
    {
        let mut budget = Budget::new(&first);
        let mut url = first;
        let mut seen: HashSet<String> = HashSet::new();
        seen.insert(url.as_str().to_string());
        let mut count = 0u64;
        // Listing pages are retried harder than single reads: one lost page would turn
        // everything that depends on the listing (every user's USR005, say) into an error.
        let attempts = self.inner.options.page_attempts;
        loop {
            let (page, request_id): (Page<T>, _) = self
                .execute_with(Method::GET, url.clone(), None, eventual, attempts)
                .await?;
            let n = page.value.len();
            count += n as u64;
            let c = &self.inner.counters;
            c.pages.fetch_add(1, Ordering::Relaxed);
            c.items.fetch_add(n as u64, Ordering::Relaxed);
            if seen.len() == 1
                && let Some(n) = page.count
            {
                c.expected_items.fetch_add(n, Ordering::Relaxed);
            }
            budget
                .page(n, page.count, page.next_link.is_some())
                .map_err(|message| GraphError::Listing {
                    path: listing.to_string(),
                    message,
                })?;
            if on_page(page.value).is_break() {
                return Ok(count);
            }
            let Some(next) = page.next_link else {
                return Ok(count);
            };
            let next_url = self.checked_next_link(&next, listing, request_id)?;
            if !seen.insert(next_url.as_str().to_string()) {
                return Err(GraphError::NextLinkLoop {
                    path: listing.to_string(),
                });
            }
            url = next_url;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_past_the_item_cap_is_refused_while_read() {
        let mut body = String::from("{\"value\":[");
        for i in 0..=MAX_PAGE_ITEMS {
            if i > 0 {
                body.push(',');
            }
            body.push_str("{}");
        }
        body.push_str("]}");
        let err = serde_json::from_str::<Page<serde_json::Value>>(&body)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("more than 50000 items"), "{err}");
        let ok: Page<serde_json::Value> =
            serde_json::from_str("{\"value\":[{},{}],\"@odata.count\":2}").unwrap();
        assert_eq!(ok.value.len(), 2);
    }

    #[test]
    fn the_budget_follows_the_announced_count_and_stops_empty_runs() {
        let u = Url::parse("http://127.0.0.1/v1.0/users?$top=100").unwrap();
        // 1,000 items announced: at most (1000 + 1000 slack) / 100 + 101 pages, however sparse.
        let mut b = Budget::new(&u);
        b.page(100, Some(1000), true).unwrap();
        let mut stopped = None;
        for i in 0..10_000 {
            if let Err(e) = b.page(i % 2, None, true) {
                stopped = Some((i, e));
                break;
            }
        }
        let (i, e) = stopped.unwrap();
        assert_eq!(i, 119, "{e}");
        assert!(e.contains("at most 121 pages"), "{e}");
        // Without a count, sparse pages stop at the average floor.
        let mut b = Budget::new(&u);
        let e = (0..10_000)
            .find_map(|i| b.page(i % 2, None, true).err())
            .unwrap();
        assert!(e.contains("200 pages held 100 items"), "{e}");

        // Without a count, with $top=999: 2,000,000 items at 100 a page, plus 101.
        let u999 = Url::parse("http://127.0.0.1/v1.0/users?$top=999").unwrap();
        let b = Budget::new(&u999);
        assert_eq!(b.max_pages(), 20_101);
        // Full pages of 100 (an endpoint capping its pages) pass the average floor.
        let mut b = Budget::new(&u999);
        for _ in 0..1000 {
            b.page(100, None, true).unwrap();
        }
        // Pages of one item too (a type cast filtered after paging may send such), up to the
        // page cap.
        let mut b = Budget::new(&u999);
        let mut n = 0u64;
        let e = loop {
            n += 1;
            if let Err(e) = b.page(1, None, true) {
                break e;
            }
        };
        assert_eq!(n, 20_101);
        assert!(e.contains("at most 20101 pages"), "{e}");

        let mut b = Budget::new(&u);
        b.page(100, None, true).unwrap();
        let mut err = None;
        for _ in 0..MAX_EMPTY_PAGES {
            err = b.page(0, None, true).err();
        }
        assert!(err.unwrap().contains("added no item"));
        // A last page may be empty.
        let mut b = Budget::new(&u);
        b.page(0, None, false).unwrap();
    }
}
