def test_home_page_answers_in_czech(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="cs"' in response.get_data(as_text=True)
